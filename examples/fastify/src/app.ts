import Fastify, { type FastifyInstance } from 'fastify';
// <<<gen:imports>>>

const calls = { count: 0 };

/** A slow data source the example caches (stands in for a database or a remote API). */
async function loadProduct(id: number) {
  calls.count += 1;
  await new Promise((r) => setTimeout(r, 50));
  return { id, name: `Product ${id}`, price_cents: 1000 + id };
}

export async function buildApp(): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
  // <<<gen:plugins>>>

  // Cache-aside through getOrSet: concurrent misses run the loader once; Redis down = the loader's result.
  app.get<{ Params: { id: string } }>('/products/:id', async (req) => {
    const id = Number(req.params.id);
    return app.cache.getOrSet(`product:${id}`, () => loadProduct(id), 60);
  });
  // The helpers existing Fastify code already calls (same names and meaning, without their old bugs).
  app.delete('/products', async () => ({ removed: await app.deleteCachePattern('product:*') }));
  app.get('/cache/stats', async () => app.getCacheStats());
  app.get('/stats', async () => ({ loader_calls: calls.count, cache: app.cache.stats() }));
  return app;
}
