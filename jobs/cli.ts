/**
 * Operator CLI of the jobs service (see USAGE in cli-args.ts):
 *
 *   node jobs/cli.ts run-once | backfill --from D --to D | runs | retention [--dry-run]
 *
 * An entry file like serve-node.ts: it alone reads process.env, builds the same dependencies as
 * the service and runs one job to the end.
 */
import { ConfigError } from '../common/config.ts';
import { createLogger } from '../common/log.ts';
import { parseCliArgs, USAGE, UsageError, type CliArgs } from './cli-args.ts';
import { loadJobsConfig } from './config.ts';
import { buildJobsDeps, type JobsDeps } from './deps.ts';
import { disabledInvalidator } from './invalidation/invalidator.ts';
import { runEtl, type EtlResult } from './runs/etl-job.ts';
import { runRetention } from './runs/retention-job.ts';
import type { RunRecord } from './runs/run-history.ts';
import { runToJson } from './runs/schemas.ts';

const EXIT = { ok: 0, failed: 1, usage: 2, locked: 3 } as const;

function describeRun(run: RunRecord): string {
  // Runs read back from etl_runs have whole-second times: say so rather than print "0.0 s".
  const ms = run.finishedAt.getTime() - run.startedAt.getTime();
  const wholeSeconds = run.startedAt.getMilliseconds() === 0 && run.finishedAt.getMilliseconds() === 0;
  const seconds = wholeSeconds ? (ms === 0 ? '<1' : `~${ms / 1000}`) : (ms / 1000).toFixed(1);
  const note = (run.error ? `\n  error: ${run.error}` : '') + (run.note ? `\n  note: ${run.note}` : '');
  return (
    `${run.job} ${run.runId} ${run.status} in ${seconds} s: window ${run.windowFrom.toISOString()} .. ${run.windowTo.toISOString()}, ` +
    `${run.rowsRead} raw rows → ${run.rowsWritten} mart rows, ${run.affectedUsers} users${note}`
  );
}

async function environment(args: CliArgs): Promise<Record<string, string | undefined>> {
  if (!args.stackEnv) return process.env;
  // Development only: the local stack's settings and generated secrets, under the process env.
  const { loadStackEnv } = await import('../tools/kit/env.ts');
  return { ...loadStackEnv(), ...process.env };
}

function printEtl(result: EtlResult | { status: 'skipped'; reason: string }, json: boolean): number {
  if (result.status === 'skipped') {
    console.log(json ? JSON.stringify(result) : `skipped: ${result.reason}`);
    return EXIT.locked;
  }
  if (json) console.log(JSON.stringify({ ...runToJson(result.run), touched_hours: result.touchedHours, unmatched_rows: result.unmatchedRows, unmatched_chips: result.unmatchedChips, deferred_hours: result.deferredHours, still_deferred_hours: result.stillDeferredHours, loaded_from_deferral: result.loadedFromDeferral }));
  else console.log(describeRun(result.run));
  return result.status === 'succeeded' ? EXIT.ok : EXIT.failed;
}

async function execute(args: CliArgs, deps: JobsDeps): Promise<number> {
  const { command } = args;
  switch (command.command) {
    case 'run-once':
    case 'backfill': {
      const etlDeps = command.invalidate ? deps : { ...deps, invalidator: disabledInvalidator };
      if (command.command === 'run-once') return printEtl(await runEtl(etlDeps, deps.etlScope, deps.etlSettings, { kind: 'incremental' }), args.json);
      const scope = command.chips.length > 0 ? { ...deps.etlScope, chipIds: command.chips } : deps.etlScope;
      return printEtl(await runEtl(etlDeps, scope, deps.etlSettings, { kind: 'backfill', from: command.from, to: command.to }), args.json);
    }
    case 'runs': {
      const runs = await deps.runHistory.list({ limit: command.limit, job: command.job });
      if (args.json) console.log(JSON.stringify(runs.map(runToJson)));
      else if (runs.length === 0) console.log('no runs recorded yet');
      else for (const run of runs) console.log(describeRun(run));
      return EXIT.ok;
    }
    case 'retention': {
      const result = await runRetention(deps, { ...deps.retentionSettings, dryRun: command.dryRun });
      if (args.json) {
        console.log(JSON.stringify(result.status === 'succeeded' || result.status === 'failed' ? { ...result, run: runToJson(result.run) } : result));
      } else if (result.status === 'skipped') console.log(`skipped: ${result.reason}`);
      else {
        const { plan } = result;
        console.log(`raw telemetry older than ${plan.rawCutoff}: ${plan.rawPartitions.join(', ') || 'no partition'}`);
        console.log(`report mart older than ${plan.martCutoff}: ${plan.martPartitions.join(', ') || 'no partition'}`);
        if (result.status === 'planned') console.log('dry run: nothing dropped');
        else console.log(describeRun(result.run));
      }
      if (result.status === 'skipped') return EXIT.locked;
      return result.status === 'failed' ? EXIT.failed : EXIT.ok;
    }
    case 'help':
      console.log(USAGE);
      return EXIT.ok;
  }
}

async function main(): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (args.command.command === 'help') {
    console.log(USAGE);
    return EXIT.ok;
  }
  let deps: JobsDeps;
  try {
    const config = loadJobsConfig(await environment(args));
    // The CLI logs to stderr, so stdout carries only the result.
    deps = buildJobsDeps(config, { logger: createLogger({ service: 'jobs-cli', level: config.LOG_LEVEL, write: (line) => console.error(line) }) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return EXIT.usage;
  }
  try {
    return await execute(args, deps);
  } finally {
    await deps.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = EXIT.failed;
  },
);
