import type postgres from 'postgres';

/** A session-level advisory lock held on one reserved connection for the length of a run. */
export interface JobLock {
  /** The connection holding the lock; run the job's SQL on it (its temp tables live there). */
  connection: postgres.ReservedSql;
  release(): Promise<void>;
}

/**
 * Exactly one process acts per job: a non-blocking pg_try_advisory_lock in the telemetry database,
 * which every replica shares. A replica that does not get it skips the run. The lock is tied to
 * the session, so a process that dies mid-run frees it with its connection.
 */
export async function tryJobLock(sql: postgres.Sql, name: string): Promise<JobLock | undefined> {
  const key = `bionicpro.jobs:${name}`;
  const connection = await sql.reserve();
  try {
    const [row] = await connection<{ locked: boolean }[]>`select pg_try_advisory_lock(hashtext(${key})) as locked`;
    if (!row?.locked) {
      connection.release();
      return undefined;
    }
  } catch (error) {
    connection.release();
    throw error;
  }
  let released = false;
  return {
    connection,
    async release() {
      if (released) return;
      released = true;
      try {
        await connection`select pg_advisory_unlock(hashtext(${key}))`;
      } catch {
        // The session is gone, and the lock with it.
      } finally {
        connection.release();
      }
    },
  };
}
