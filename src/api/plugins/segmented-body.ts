/**
 * A content-type parser that reads a body as fastify reads one as a buffer (the same limit and
 * problems), but into segments of at most 1 MiB as the chunks arrive instead of concatenated at
 * the end: a body of some MB is copied a chunk at a time between other requests, never in one
 * step that holds the event loop. Room is made as the bytes come, so an announced size alone
 * reserves nothing; with a size announced, the last segment is cut to it (each segment can then
 * move to a worker thread whole). The route gets `Buffer[]`.
 */
import { errorCodes, type FastifyContentTypeParser } from 'fastify';

const SEGMENT = 1 << 20;

/** The parser for bodies of at most `limit` bytes. */
export function segmentedBody(limit: number): FastifyContentTypeParser {
  return (req, payload, done) => {
    const announced = Number(req.headers['content-length']);
    if (announced > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
    const stream = payload as typeof payload & { receivedEncodedLength?: number };
    const cap = Number.isNaN(announced) ? limit : announced;
    const segments: Buffer[] = [];
    let seg = Buffer.alloc(0),
      used = 0,
      n = 0;
    const onData = (chunk: Buffer | string) => {
      let c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (n + c.length > limit || (stream.receivedEncodedLength ?? 0) > limit) {
        stop();
        return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
      }
      n += c.length;
      while (c.length > 0) {
        if (used === seg.length) {
          // Sized to what is still announced (a body longer than announced is refused at its end).
          seg = Buffer.allocUnsafeSlow(Math.min(SEGMENT, Math.max(cap - (n - c.length), c.length)));
          segments.push(seg);
          used = 0;
        }
        const k = c.copy(seg, used);
        used += k;
        c = c.subarray(k);
      }
    };
    const onEnd = (err?: Error & { statusCode?: number }) => {
      stop();
      if (err != null) {
        if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
        return done(err, undefined);
      }
      if (!Number.isNaN(announced) && (stream.receivedEncodedLength || n) !== announced)
        return done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), undefined);
      if (segments.length) segments[segments.length - 1] = seg.subarray(0, used);
      done(null, segments);
    };
    const stop = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  };
}
