import type { IncomingMessage } from 'node:http';
import { ProxyError } from '../errors.ts';

/**
 * Buffer a request body up to `limit` bytes. Rejects BODY_TOO_LARGE as soon as
 * the declared or received size passes the limit (without reading the rest),
 * and CLIENT_CLOSED when the client goes away (or Node cuts it at
 * requestTimeout, see http-options.ts) before the body is complete.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (): ProxyError =>
    new ProxyError('BODY_TOO_LARGE', `request body exceeds the limit of ${limit} bytes (maxBodyBytes)`);
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause(); // the 413 closes the connection; never read the rest
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new ProxyError('CLIENT_CLOSED', `error reading request body: ${err.message}`, { cause: err }));
    };
    const onAborted = (): void => onError(new Error('client aborted'));
    // 'close' without 'end': covers any way the request is torn down that emits neither 'aborted' nor 'error'.
    const onClose = (): void => {
      if (!req.complete) onError(new Error('connection closed before the body was complete'));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    req.on('close', onClose);
  });
}
