/**
 * Entry point of the load-generator process: reads one Job as JSON on stdin,
 * runs it, prints its JobResult as JSON on stdout. Started by runInClient().
 */
import { text } from 'node:stream/consumers';
import { runJob, type Job } from './client.ts';

const job = JSON.parse(await text(process.stdin)) as Job;
process.stdout.write(`${JSON.stringify(await runJob(job))}\n`);
