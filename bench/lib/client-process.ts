/**
 * Entry point of the load-generator process. By default it reads one Job as
 * JSON on stdin, runs it, and prints its JobResult as JSON on stdout
 * (runInClient()). With `--serve` it stays up and runs one Job per line of
 * stdin, printing one JobResult per line, so that a runner's client stays
 * warm from turn to turn (startClientWorker()).
 */
import { createInterface } from 'node:readline';
import { text } from 'node:stream/consumers';
import { runJob, type Job } from './client.ts';

if (process.argv.includes('--serve')) {
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    process.stdout.write(`${JSON.stringify(await runJob(JSON.parse(line) as Job))}\n`);
  }
} else {
  const job = JSON.parse(await text(process.stdin)) as Job;
  process.stdout.write(`${JSON.stringify(await runJob(job))}\n`);
}
