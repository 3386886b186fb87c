// A hashing worker thread (started by ./hash.ts; bundled alone as dist/hash-worker.cjs): waits for one job, hashes
// chunks of it alongside the other threads, then, when asked, lists the folders of its files (verify's search for
// files the lock does not list).
import { parentPort } from 'node:worker_threads';
import { hashChunks, listFolders, type WorkerJob } from './hash-thread.js';

parentPort!.once('message', (job: WorkerJob) => {
  const files = job.list.split('\0');
  hashChunks(job, files);
  parentPort!.postMessage(job.listFolders ? { folders: listFolders(files, job.base) } : {});
});
