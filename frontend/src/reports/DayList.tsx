import { useState } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import type { LinkToDay } from './day-link.ts';
import type { ReportDay } from './reports-api.ts';

const PAGE_SIZE = 14;

/** Days with data, newest first, each a link to its daily report; longer histories page by "show more". */
export function DayList({ days, linkToDay, totalDays }: { days: readonly ReportDay[]; linkToDay: LinkToDay; totalDays: number }) {
  const { t, format, plural } = useI18n();
  const [shown, setShown] = useState(PAGE_SIZE);
  const visible = days.slice(0, shown);
  return (
    <section className="section" aria-labelledby="days-title" data-testid="day-list">
      <div className="section__head">
        <h2 id="days-title">{t.daysTitle}</h2>
        <p className="muted small">{plural(t.daysCount, totalDays)}</p>
      </div>
      <div className="table-scroll" role="region" aria-labelledby="days-title" tabIndex={0}>
        <table className="table table--days">
          <thead>
            <tr>
              <th scope="col">{t.dayColumn}</th>
              <th scope="col" className="num">
                {t.movements}
              </th>
              <th scope="col" className="num">
                {t.successRate}
              </th>
              <th scope="col" className="num hide-narrow">
                {t.avgResponseTime}
              </th>
              <th scope="col" className="num hide-narrow">
                {t.avgBattery}
              </th>
              <th scope="col" className="num">
                {t.errors}
              </th>
            </tr>
          </thead>
          <tbody>
            {visible.map((day) => (
              <tr key={day.date} data-testid={`day-${day.date}`}>
                <th scope="row">
                  {linkToDay(day.date, { 'aria-label': t.openDay(format.dayLong(day.date)), children: format.dayInList(day.date) })}
                </th>
                <td className="num">{format.integer(day.movements)}</td>
                <td className="num">{format.percent(day.success_rate_pct)}</td>
                <td className="num hide-narrow">{day.avg_response_time_ms === null ? t.notMeasured : t.ms(format.milliseconds(day.avg_response_time_ms))}</td>
                <td className="num hide-narrow">{format.percent(day.avg_battery_pct)}</td>
                <td className="num">{format.integer(day.errors)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {days.length > shown ? (
        <button type="button" className="button button--ghost" onClick={() => setShown((n) => n + PAGE_SIZE)}>
          {t.showMore}
        </button>
      ) : null}
    </section>
  );
}
