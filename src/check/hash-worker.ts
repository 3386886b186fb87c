// A hashing worker thread (started by ./hash.ts): waits for one job (a list of files, or a lock whose vendored files it
// reads itself), hashes chunks of it alongside the other threads, then, when asked, lists the folders of its files
// (verify's search for files the lock does not list).
import { parentPort } from 'node:worker_threads';
import { hashChunks, listFolders, lockShare, type LockJob, type WorkerJob } from './hash.js';

parentPort!.once('message', (job: WorkerJob | LockJob) => {
  let files: string[];
  let share: WorkerJob | (LockJob & ReturnType<typeof lockShare>['share']);
  if ('lock' in job) {
    // a lock to read: its files go back to the calling thread first, so that it can take part in the hashing
    const found = lockShare(job);
    files = found.files;
    share = { ...job, ...found.share };
    parentPort!.postMessage(found.share);
  } else {
    files = job.list === '' ? [] : job.list.split('\0');
    share = job;
  }
  hashChunks(share, files);
  parentPort!.postMessage(job.listFolders ? { folders: listFolders(files, job.base) } : {});
});
