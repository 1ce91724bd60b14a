import { ChartFrame, slotCenter, yFor } from './ChartFrame.tsx';
import { linePath, niceCeiling } from './scale.ts';

export interface LineSeries {
  name: string;
  values: readonly (number | null)[];
  tone: 'primary' | 'secondary';
  dashed?: boolean;
}

export interface LineChartProps {
  id: string;
  title: string;
  description: string;
  series: readonly LineSeries[];
  hourLabels: readonly string[];
  formatValue: (value: number) => string;
  /** A fixed top of the axis (100 for percentages); otherwise a nice bound above the data. */
  max?: number;
}

/** Lines over the 24 hours with a dot per measured hour; missing hours are gaps. */
export function LineChart({ id, title, description, series, hourLabels, formatValue, max }: LineChartProps) {
  const top = max ?? niceCeiling(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const legend =
    series.length > 1 ? (
      <ul className="chart__legend">
        {series.map((s) => (
          <li key={s.name}>
            <span className={`chart__swatch chart__swatch--${s.tone}${s.dashed ? ' chart__swatch--dashed' : ''}`} aria-hidden="true" />
            {s.name}
          </li>
        ))}
      </ul>
    ) : undefined;
  return (
    <ChartFrame id={id} title={title} description={description} max={top} formatTick={formatValue} hourLabels={hourLabels} legend={legend}>
      {series.map((s) => (
        <g key={s.name} className={`chart__line chart__line--${s.tone}`}>
          <path d={linePath(s.values, slotCenter, (value) => yFor(value, top))} fill="none" strokeDasharray={s.dashed ? '6 4' : undefined} />
          {s.values.map((value, index) =>
            value === null ? null : (
              <circle key={index} cx={slotCenter(index)} cy={yFor(value, top)} r={3}>
                <title>{`${s.name}, ${hourLabels[index]}: ${formatValue(value)}`}</title>
              </circle>
            ),
          )}
        </g>
      ))}
    </ChartFrame>
  );
}
