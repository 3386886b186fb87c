// A hashing worker thread (started by ./hash.ts, or by bin/gen.cjs before the CLI loads; bundled alone as
// dist/hash-worker.cjs): waits for one job; when asked, lists the folders of its files first (verify's search for
// files the lock does not list), then hashes chunks of the job alongside the other threads.
import { parentPort } from 'node:worker_threads';
import { hashChunks, listFolders, type WorkerJob } from './hash-thread.js';

parentPort!.once('message', (job: WorkerJob) => {
  const files = job.list.split('\0');
  // the folders first: the job ends when its last chunk is hashed, not a listing later
  const folders = job.listFolders ? listFolders(files, job.base) : undefined;
  hashChunks(job, files);
  parentPort!.postMessage(folders ? { folders } : {});
});
