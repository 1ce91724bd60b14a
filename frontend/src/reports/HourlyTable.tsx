import { useI18n } from '../i18n/i18n.tsx';
import type { HourPoint } from './reports-api.ts';

/** Every hourly number behind the charts, for screen readers, keyboards and anyone who wants exact values. */
export function HourlyTable({ hours }: { hours: readonly HourPoint[] }) {
  const { t, format } = useI18n();
  const ms = (value: number | null) => (value === null ? t.notMeasured : format.milliseconds(value));
  return (
    <section className="section" aria-labelledby="hourly-title">
      <h2 id="hourly-title">{t.hourlyTableTitle}</h2>
      <div className="table-scroll" role="region" aria-labelledby="hourly-title" tabIndex={0}>
        <table className="table table--hourly" data-testid="hourly-table">
          <caption className="visually-hidden">
            {t.hourlyTableTitle}. {t.timesInUtc}
          </caption>
          <thead>
            <tr>
              <th scope="col">{t.hourColumn}</th>
              <th scope="col" className="num">{t.movements}</th>
              <th scope="col" className="num">{t.successfulMovements}</th>
              <th scope="col" className="num">{t.successRate}</th>
              <th scope="col" className="num">
                <abbr title={t.avgResponseTime}>{t.colResponseMs}</abbr>
              </th>
              <th scope="col" className="num">
                <abbr title={t.avgBattery}>{t.colBatteryAvg}</abbr>
              </th>
              <th scope="col" className="num">
                <abbr title={t.minBattery}>{t.colBatteryMin}</abbr>
              </th>
              <th scope="col" className="num">{t.errors}</th>
              <th scope="col" className="num">
                <abbr title={t.activeMinutes}>{t.colActive}</abbr>
              </th>
            </tr>
          </thead>
          <tbody>
            {hours.map((hour) => (
              <tr key={hour.hour} className={hour.events === 0 ? 'is-empty' : undefined}>
                <th scope="row">{format.hour(hour.hour)}</th>
                <td className="num">{format.integer(hour.movements)}</td>
                <td className="num">{format.integer(hour.successful_movements)}</td>
                <td className="num">{format.percent(hour.success_rate_pct)}</td>
                <td className="num">{ms(hour.avg_response_time_ms)}</td>
                <td className="num">{format.percent(hour.avg_battery_pct)}</td>
                <td className="num">{format.percent(hour.min_battery_pct)}</td>
                <td className="num">{format.integer(hour.errors)}</td>
                <td className="num">{t.minutes(format.minutes(hour.active_minutes))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
