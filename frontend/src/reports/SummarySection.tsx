import { useI18n } from '../i18n/i18n.tsx';
import type { ReportSummary } from './reports-api.ts';

interface Metric {
  id: string;
  label: string;
  value: string;
  detail?: string;
}

/** The all-time figures, as labelled values (a description list) that also read well aloud. */
export function SummarySection({ summary }: { summary: ReportSummary }) {
  const { t, format } = useI18n();
  const firstDay = summary.first_activity_at?.slice(0, 10);
  const lastDay = summary.last_activity_at?.slice(0, 10);
  const chips = summary.prostheses.map((p) => t.chip(p.chip_id)).join(', ');
  const metrics: Metric[] = [
    {
      id: 'active-days',
      label: t.activeDays,
      value: format.integer(summary.active_days),
      detail: firstDay && lastDay ? format.dayRange(firstDay, lastDay) : undefined,
    },
    { id: 'movements', label: t.movements, value: format.integer(summary.movements), detail: `${t.successfulMovements}: ${format.integer(summary.successful_movements)}` },
    { id: 'success-rate', label: t.successRate, value: format.percent(summary.success_rate_pct) },
    { id: 'response-time', label: t.avgResponseTime, value: summary.avg_response_time_ms === null ? t.notMeasured : t.ms(format.milliseconds(summary.avg_response_time_ms)) },
    { id: 'battery', label: t.avgBattery, value: format.percent(summary.avg_battery_pct) },
    {
      id: 'errors-per-day',
      label: t.errorsPerDay,
      value: summary.errors_per_active_day === null ? t.notMeasured : format.decimal(summary.errors_per_active_day, 1),
      detail: `${t.errors}: ${format.integer(summary.errors)}`,
    },
    { id: 'model', label: t.prosthesisModel, value: summary.prosthesis_model ?? t.notMeasured, detail: chips || undefined },
  ];
  return (
    <section className="section" aria-labelledby="summary-title" data-testid="summary">
      <div className="section__head">
        <h2 id="summary-title">{t.summaryTitle}</h2>
        <p className="muted small">{t.updatedAt(format.dateTime(summary.generated_at))}</p>
      </div>
      <dl className="metrics">
        {metrics.map((metric) => (
          <div key={metric.id} className={`metric metric--${metric.id}`} data-testid={`metric-${metric.id}`}>
            <dt className="metric__label">{metric.label}</dt>
            <dd className="metric__value">{metric.value}</dd>
            {metric.detail ? <dd className="metric__detail">{metric.detail}</dd> : null}
          </div>
        ))}
      </dl>
    </section>
  );
}
