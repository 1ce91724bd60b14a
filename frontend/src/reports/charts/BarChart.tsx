import { ChartFrame, PLOT, slotCenter, slotWidth, yFor } from './ChartFrame.tsx';
import { niceCeiling } from './scale.ts';

export interface BarChartProps {
  id: string;
  title: string;
  description: string;
  values: readonly number[];
  hourLabels: readonly string[];
  formatValue: (value: number) => string;
  tone: 'primary' | 'danger';
  /** The axis reaches at least this high, so small counts get whole-number ticks. */
  minTop?: number;
}

/** One bar per hour; each bar names its hour and value on hover through an SVG <title>. */
export function BarChart({ id, title, description, values, hourLabels, formatValue, tone, minTop = 4 }: BarChartProps) {
  const max = niceCeiling(Math.max(minTop, ...values));
  const barWidth = slotWidth * 0.7;
  return (
    <ChartFrame id={id} title={title} description={description} max={max} formatTick={formatValue} hourLabels={hourLabels}>
      <g className={`chart__bars chart__bars--${tone}`}>
        {values.map((value, index) => {
          const top = yFor(value, max);
          const height = PLOT.y + PLOT.height - top;
          return (
            <rect key={index} x={slotCenter(index) - barWidth / 2} y={top} width={barWidth} height={Math.max(height, value > 0 ? 1 : 0)} rx={2}>
              <title>{`${hourLabels[index]}: ${formatValue(value)}`}</title>
            </rect>
          );
        })}
      </g>
    </ChartFrame>
  );
}
