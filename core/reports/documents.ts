import { z } from '@hono/zod-openapi';

/**
 * The three report documents. The same JSON is answered by /api/reports/* and stored in S3 for
 * the CDN edge, so these schemas are the contract with the frontend and the edge.
 */

const pct = z.number().min(0).max(100);
const nullableMs = z.number().nullable().openapi({ description: 'Milliseconds; null when nothing was measured' });

export const ProsthesisRefSchema = z
  .object({
    prosthesis_id: z.string().openapi({ example: '2f1b5d8e-4c1a-4a57-9a1e-0d7c7f5b9e11' }),
    chip_id: z.string().openapi({ example: 'CHIP-0001' }),
    model_name: z.string().openapi({ example: 'BionicHand X2' }),
  })
  .openapi('ProsthesisRef');
export type ProsthesisRef = z.infer<typeof ProsthesisRefSchema>;

export const DayTotalsSchema = z
  .object({
    events: z.number().int(),
    movements: z.number().int(),
    successful_movements: z.number().int(),
    success_rate_pct: pct.nullable().openapi({ description: 'Successful / all movements × 100, at most 100; null without movements' }),
    avg_response_time_ms: nullableMs,
    max_response_time_ms: nullableMs,
    avg_battery_pct: pct.nullable(),
    min_battery_pct: pct.nullable(),
    errors: z.number().int(),
    active_minutes: z.number().int(),
    charging_minutes: z.number().int(),
  })
  .openapi('DayTotals');
export type DayTotals = z.infer<typeof DayTotalsSchema>;

export const ReportDaySchema = DayTotalsSchema.extend({
  date: z.string().openapi({ example: '2026-11-24', description: 'UTC calendar day' }),
}).openapi('ReportDay');
export type ReportDay = z.infer<typeof ReportDaySchema>;

export const ReportListSchema = z
  .object({
    user_id: z.string().openapi({ description: 'The owner’s pseudonymous report owner ref (never the username)', example: 'ncvjy4jxtohxag5lkvuw6rjqwfzssj5a' }),
    generated_at: z.string().openapi({ description: 'When this document was computed (ISO 8601)' }),
    total_days: z.number().int(),
    days: z.array(ReportDaySchema).openapi({ description: 'Days with data, newest first' }),
  })
  .openapi('ReportList');
export type ReportList = z.infer<typeof ReportListSchema>;

export const ReportPageSchema = ReportListSchema.extend({
  limit: z.number().int(),
  offset: z.number().int(),
}).openapi('ReportPage');
export type ReportPage = z.infer<typeof ReportPageSchema>;

export const HourPointSchema = z
  .object({
    hour: z.string().openapi({ example: '2026-11-24T13:00:00Z' }),
    events: z.number().int(),
    movements: z.number().int(),
    successful_movements: z.number().int(),
    success_rate_pct: pct.nullable(),
    avg_response_time_ms: nullableMs,
    avg_battery_pct: pct.nullable(),
    min_battery_pct: pct.nullable(),
    errors: z.number().int(),
    active_minutes: z.number().int(),
  })
  .openapi('HourPoint');
export type HourPoint = z.infer<typeof HourPointSchema>;

export const DailyReportSchema = z
  .object({
    user_id: z.string().openapi({ description: 'The owner’s pseudonymous report owner ref (never the username)', example: 'ncvjy4jxtohxag5lkvuw6rjqwfzssj5a' }),
    date: z.string(),
    generated_at: z.string(),
    prostheses: z.array(ProsthesisRefSchema),
    totals: DayTotalsSchema,
    errors_by_code: z.record(z.string(), z.number().int()).openapi({ example: { E_OVERHEAT: 2 } }),
    hours: z.array(HourPointSchema).length(24).openapi({ description: 'Exactly 24 points, 00:00–23:00 UTC; hours without data are zero' }),
  })
  .openapi('DailyReport');
export type DailyReport = z.infer<typeof DailyReportSchema>;

export const ReportSummarySchema = z
  .object({
    user_id: z.string().openapi({ description: 'The owner’s pseudonymous report owner ref (never the username)', example: 'ncvjy4jxtohxag5lkvuw6rjqwfzssj5a' }),
    generated_at: z.string(),
    active_days: z.number().int(),
    first_activity_at: z.string().nullable().openapi({ description: 'Start of the first UTC hour with data' }),
    last_activity_at: z.string().nullable().openapi({ description: 'Start of the last UTC hour with data' }),
    movements: z.number().int(),
    successful_movements: z.number().int(),
    success_rate_pct: pct.nullable(),
    avg_response_time_ms: nullableMs,
    avg_battery_pct: pct.nullable(),
    errors: z.number().int(),
    errors_per_active_day: z.number().nullable(),
    prosthesis_model: z.string().nullable().openapi({ description: 'Model of the most recently active prosthesis' }),
    prostheses: z.array(ProsthesisRefSchema),
  })
  .openapi('ReportSummary');
export type ReportSummary = z.infer<typeof ReportSummarySchema>;

export const SignedUrlSchema = z
  .object({
    url: z.string().openapi({ example: 'http://localhost:8002/reports/ncvjy4jxtohxag5lkvuw6rjqwfzssj5a/daily/2026-11-24/report.json?exp=1764000000&sig=…' }),
    key: z.string().openapi({ example: 'ncvjy4jxtohxag5lkvuw6rjqwfzssj5a/daily/2026-11-24/report.json' }),
    expires_at: z.string(),
    cache: z.enum(['hit', 'miss']).openapi({ description: 'Whether the object already existed in S3' }),
  })
  .openapi('SignedReportUrl');
export type SignedUrl = z.infer<typeof SignedUrlSchema>;

export type ReportKind = 'list' | 'summary' | 'daily';
