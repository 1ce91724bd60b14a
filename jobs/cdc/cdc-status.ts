import type { Change } from './decode-change.ts';

export interface PartitionProgress {
  topic: string;
  partition: number;
  /** Last offset stored and committed. */
  committedOffset: string | null;
  /** The partition's end when the last batch was fetched. */
  highWatermark: string | null;
  /** Messages between the committed position and that end. */
  lag: number | null;
  updatedAt: string;
}

export interface LastApplied {
  table: string;
  op: string;
  id: string;
  lsn: string;
  /** Commit time in the CRM. */
  sourceCommittedAt: string;
  appliedAt: string;
  /** CRM commit → stored in ClickHouse. */
  lagMs: number;
}

export interface CdcStatusSnapshot {
  state: 'starting' | 'running' | 'restarting' | 'stopped' | 'crashed';
  lastError: string | null;
  partitions: PartitionProgress[];
  lastApplied: LastApplied | null;
  appliedChanges: number;
  deadLettered: number;
  tombstones: number;
}

/** What the consumer knows about itself, for /health/cdc and /metrics. */
export class CdcStatus {
  state: CdcStatusSnapshot['state'] = 'stopped';
  lastError: string | null = null;
  appliedChanges = 0;
  deadLettered = 0;
  tombstones = 0;
  private readonly partitions = new Map<string, PartitionProgress>();
  private lastApplied: LastApplied | null = null;

  recordBatch(topic: string, partition: number, committedOffset: string, highWatermark: string, nowMs: number): number {
    // The committed position is the next offset to read; lag is what remains before the end.
    const lag = Math.max(0, Number(BigInt(highWatermark) - BigInt(committedOffset)));
    this.partitions.set(`${topic}:${partition}`, { topic, partition, committedOffset, highWatermark, lag, updatedAt: new Date(nowMs).toISOString() });
    return lag;
  }

  recordApplied(changes: readonly Change[], nowMs: number): void {
    this.appliedChanges += changes.length;
    const newest = changes.reduce<Change | undefined>((best, change) => (!best || change.sourceTsMs >= best.sourceTsMs ? change : best), undefined);
    if (!newest) return;
    this.lastApplied = {
      table: newest.table.name,
      op: newest.op,
      id: newest.id,
      lsn: newest.version.toString(),
      sourceCommittedAt: new Date(newest.sourceTsMs).toISOString(),
      appliedAt: new Date(nowMs).toISOString(),
      lagMs: Math.max(0, nowMs - newest.sourceTsMs),
    };
  }

  snapshot(): CdcStatusSnapshot {
    return {
      state: this.state,
      lastError: this.lastError,
      partitions: [...this.partitions.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
      lastApplied: this.lastApplied,
      appliedChanges: this.appliedChanges,
      deadLettered: this.deadLettered,
      tombstones: this.tombstones,
    };
  }
}
