import type { MiddlewareHandler } from 'hono';
import { ApiError, ErrorCode } from '../../common/http/errors.ts';
import { addToWideEvent } from '../../common/http/wide-event.ts';
import type { CoreEnv } from '../context.ts';
import { verifyDeviceSignature } from './device-signature.ts';

/** Authenticates a telemetry upload by its HMAC signature before anything parses the body. */
export function requireDeviceSignature(options: { masterKey: string; replayWindowSeconds: number; now: () => number }): MiddlewareHandler<CoreEnv> {
  return async (c, next) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const check = await verifyDeviceSignature({
      masterKey: options.masterKey,
      chipId: c.req.header('x-chip-id'),
      timestamp: c.req.header('x-timestamp'),
      signature: c.req.header('x-signature'),
      body,
      nowSeconds: Math.floor(options.now() / 1000),
      replayWindowSeconds: options.replayWindowSeconds,
    });
    if (!check.ok) {
      addToWideEvent(c, { deviceAuth: check.reason, chip: c.req.header('x-chip-id')?.slice(0, 64) });
      throw new ApiError({ code: ErrorCode.unauthorized, message: 'Device signature rejected', details: { reason: check.reason } });
    }
    c.set('deviceChipId', check.chipId);
    addToWideEvent(c, { chip: check.chipId });
    await next();
  };
}
