/**
 * The fault-injection suite and the soak (issue 9, "Faults"), against the running native stack:
 *
 *   npm run chaos                                  every fault, then the 10-minute soak
 *   npm run chaos -- --faults redis,core           only these faults (comma-separated), no soak
 *   npm run chaos -- --soak-minutes 0              faults only;  --faults none  soak only
 *   options: --down-seconds N  --settle-seconds N  --runtime node|bun  --json FILE
 *
 * Prints the fault table (Markdown) and the soak figures; exits 1 if any row shows a finding.
 * Uses the stack's settings (.stack/stack.env); the stack must be up (`npm run stack:up`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadStackEnv } from '../../stack/lib/env.ts';
import { ALL_FAULTS } from './faults.ts';
import { renderSoak, runSoak } from './soak.ts';
import { DEFAULT_OPTIONS, runChaos } from './suite.ts';
import { isClean, renderNotes, renderTable } from './table.ts';

const { values } = parseArgs({
  options: {
    faults: { type: 'string' },
    'soak-minutes': { type: 'string' },
    'down-seconds': { type: 'string' },
    'settle-seconds': { type: 'string' },
    runtime: { type: 'string', default: 'node' },
    json: { type: 'string' },
  },
});

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number ≥ 0, got ${value}`);
  return n;
}

const faults = values.faults === undefined ? ALL_FAULTS : values.faults === 'none' ? [] : values.faults.split(',').map((f) => f.trim()).filter(Boolean);
const unknown = faults.filter((f) => !ALL_FAULTS.includes(f));
if (unknown.length > 0) throw new Error(`unknown fault(s) ${unknown.join(', ')}; known: ${ALL_FAULTS.join(', ')}`);
const soakMinutes = positive('soak-minutes', values['soak-minutes'], values.faults === undefined || values.faults === 'none' ? 10 : 0);
if (values.runtime !== 'node' && values.runtime !== 'bun') throw new Error('--runtime must be node or bun');
const runtime = values.runtime;

const env = loadStackEnv();
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const command = `node tests/chaos/run.ts ${process.argv.slice(2).join(' ')}`.trim();
let clean = true;
const report: Record<string, unknown> = { command, started: new Date().toISOString() };

if (faults.length > 0) {
  const result = await runChaos(env, {
    ...DEFAULT_OPTIONS,
    faults,
    downSeconds: positive('down-seconds', values['down-seconds'], DEFAULT_OPTIONS.downSeconds),
    settleSeconds: positive('settle-seconds', values['settle-seconds'], DEFAULT_OPTIONS.settleSeconds),
    runtime,
    log,
  });
  report.faults = result;
  clean &&= result.rows.every(isClean);
  console.log(`\n## Faults (${result.chips} chips, ${result.sessions} signed-in owners; \`${command}\`)\n`);
  console.log(renderTable(result.rows));
  const notes = renderNotes(result.rows);
  if (notes) console.log(`\nNotes:\n${notes}`);
}

if (soakMinutes > 0) {
  const soak = await runSoak(env, { ...DEFAULT_OPTIONS, minutes: soakMinutes, runtime, log });
  report.soak = soak;
  clean &&= soak.clean;
  console.log(`\n## Soak (\`${command}\`)\n`);
  console.log(renderSoak(soak));
}

if (values.json) {
  mkdirSync(dirname(values.json), { recursive: true });
  writeFileSync(values.json, JSON.stringify(report, null, 2));
}
console.log(clean ? '\nchaos: no findings' : '\nchaos: FINDINGS above');
process.exitCode = clean ? 0 : 1;
