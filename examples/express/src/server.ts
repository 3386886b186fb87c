import { buildApp } from './app';

const app = buildApp();
const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
// <<<gen:shutdown>>>
// Stop accepting connections: the process ends once they are done and the cache (closed with the server) is.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close());
