import type { ReactNode } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { PageHeading } from '../ui/PageHeading.tsx';
import { BarChart } from './charts/BarChart.tsx';
import { LineChart } from './charts/LineChart.tsx';
import { peak } from './charts/scale.ts';
import type { LinkToDay } from './day-link.ts';
import { HourlyTable } from './HourlyTable.tsx';
import type { DailyReport } from './reports-api.ts';

export interface DayNavigation {
  /** Older day with data, if any. */
  previous?: string;
  /** Newer day with data, if any. */
  next?: string;
  linkToDay: LinkToDay;
  /** The way back to the list of days (a link rendered by the page). */
  back: ReactNode;
}

/** One day: totals, four hourly charts, errors by code, and the hourly table. */
export function DailyReportView({ report, navigation, owner }: { report: DailyReport; navigation: DayNavigation; owner?: string }) {
  const { t, format } = useI18n();
  const { totals, hours } = report;
  const hourLabels = hours.map((h) => format.hour(h.hour));

  const describe = (title: string, values: readonly (number | null)[], formatValue: (v: number) => string) => {
    const top = peak(values);
    return top ? t.chartSummary(title, formatValue(top.value), hourLabels[top.index] ?? '') : t.chartNoData(title);
  };
  const movements = hours.map((h) => h.movements);
  const errors = hours.map((h) => h.errors);
  const response = hours.map((h) => h.avg_response_time_ms);
  const batteryAvg = hours.map((h) => h.avg_battery_pct);
  const batteryMin = hours.map((h) => h.min_battery_pct);
  const errorCodes = Object.entries(report.errors_by_code).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const ms = (value: number | null) => (value === null ? t.notMeasured : t.ms(format.milliseconds(value)));

  const totalsList = [
    { id: 'movements', label: t.movements, value: format.integer(totals.movements), detail: `${t.successfulMovements}: ${format.integer(totals.successful_movements)}` },
    { id: 'success-rate', label: t.successRate, value: format.percent(totals.success_rate_pct) },
    { id: 'response-time', label: t.avgResponseTime, value: ms(totals.avg_response_time_ms), detail: `${t.maxResponseTime}: ${ms(totals.max_response_time_ms)}` },
    { id: 'battery', label: t.avgBattery, value: format.percent(totals.avg_battery_pct), detail: `${t.minBattery}: ${format.percent(totals.min_battery_pct)}` },
    { id: 'errors', label: t.errors, value: format.integer(totals.errors) },
    { id: 'active', label: t.activeMinutes, value: t.minutes(format.minutes(totals.active_minutes)), detail: `${t.chargingMinutes}: ${t.minutes(format.minutes(totals.charging_minutes))}` },
  ];

  return (
    <>
      <div className="page__head">
        <PageHeading>{t.dailyTitle(format.dayLong(report.date))}</PageHeading>
        {owner ? <p className="muted">{t.userReportsTitle(owner)}</p> : null}
        <nav className="day-nav" aria-label={t.daysTitle}>
          {navigation.previous
            ? navigation.linkToDay(navigation.previous, { className: 'button button--ghost button--small', rel: 'prev', 'data-testid': 'previous-day', children: `← ${t.previousDay}` })
            : null}
          {navigation.back}
          {navigation.next
            ? navigation.linkToDay(navigation.next, { className: 'button button--ghost button--small', rel: 'next', 'data-testid': 'next-day', children: `${t.nextDay} →` })
            : null}
        </nav>
      </div>

      <section className="section" aria-label={t.summaryTitle} data-testid="day-totals">
        <dl className="metrics metrics--compact">
          {totalsList.map((metric) => (
            <div key={metric.id} className="metric" data-testid={`total-${metric.id}`}>
              <dt className="metric__label">{metric.label}</dt>
              <dd className="metric__value">{metric.value}</dd>
              {metric.detail ? <dd className="metric__detail">{metric.detail}</dd> : null}
            </div>
          ))}
        </dl>
        {report.prostheses.length > 0 ? (
          <p className="muted small">
            {t.prostheses}: {report.prostheses.map((p) => `${p.model_name} (${t.chip(p.chip_id)})`).join(', ')}
          </p>
        ) : null}
        <p className="muted small">{t.timesInUtc}</p>
      </section>

      <section className="charts" aria-label={t.chartMovements}>
        <BarChart
          id="chart-movements"
          title={t.chartMovements}
          description={describe(t.chartMovements, movements, format.integer)}
          values={movements}
          hourLabels={hourLabels}
          formatValue={(v) => format.integer(v)}
          tone="primary"
        />
        <BarChart
          id="chart-errors"
          title={t.chartErrors}
          description={describe(t.chartErrors, errors, format.integer)}
          values={errors}
          hourLabels={hourLabels}
          formatValue={(v) => format.integer(v)}
          tone="danger"
        />
        <LineChart
          id="chart-response"
          title={t.chartResponse}
          description={describe(t.chartResponse, response, (v) => t.ms(format.milliseconds(v)))}
          series={[{ name: t.avgResponseTime, values: response, tone: 'primary' }]}
          hourLabels={hourLabels}
          formatValue={(v) => format.milliseconds(v)}
        />
        <LineChart
          id="chart-battery"
          title={t.chartBattery}
          description={describe(t.chartBattery, batteryAvg, (v) => format.percent(v))}
          series={[
            { name: t.legendAverage, values: batteryAvg, tone: 'primary' },
            { name: t.legendMinimum, values: batteryMin, tone: 'secondary', dashed: true },
          ]}
          hourLabels={hourLabels}
          formatValue={(v) => format.integer(v)}
          max={100}
        />
      </section>

      <section className="section" aria-labelledby="codes-title">
        <h2 id="codes-title">{t.errorsByCode}</h2>
        {errorCodes.length === 0 ? (
          <p className="muted">{t.noErrors}</p>
        ) : (
          <table className="table table--codes" data-testid="error-codes">
            <thead>
              <tr>
                <th scope="col">{t.errorCode}</th>
                <th scope="col" className="num">{t.errorCount}</th>
              </tr>
            </thead>
            <tbody>
              {errorCodes.map(([code, count]) => (
                <tr key={code}>
                  <th scope="row">
                    <code>{code}</code>
                  </th>
                  <td className="num">{format.integer(count)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <HourlyTable hours={hours} />
    </>
  );
}
