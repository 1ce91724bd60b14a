import type { Producer } from 'kafkajs';
import type { Poison } from './decode-change.ts';

export interface DeadLetter {
  /** Publishes the originals with their reasons; resolves once the broker has them (acks=all). */
  send(poison: readonly Poison[]): Promise<void>;
}

/**
 * Dead-letter topic messages carry the original key and value bytes untouched, so a fixed event
 * can be replayed as it was, and say why and where from in headers.
 */
export function createDeadLetter(producer: Producer, topic: string, now: () => number): DeadLetter {
  return {
    async send(poison) {
      if (poison.length === 0) return;
      await producer.send({
        topic,
        acks: -1,
        messages: poison.map((p) => ({
          key: p.message.key,
          value: p.message.value,
          headers: {
            reason: p.reason,
            detail: p.detail,
            'source-topic': p.message.topic,
            'source-partition': String(p.message.partition),
            'source-offset': p.message.offset,
            ...(p.message.timestamp ? { 'source-timestamp': p.message.timestamp } : {}),
            'dead-lettered-at': new Date(now()).toISOString(),
          },
        })),
      });
    },
  };
}
