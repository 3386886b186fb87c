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
  const app = Fastify({ logger: false });
  // <<<gen:plugins>>>

  // Cache-aside through getOrSet: concurrent misses run the loader once; Redis down = loader result.
  app.get<{ Params: { id: string } }>('/products/:id', async (req) => {
    const id = Number(req.params.id);
    return app.cache.getOrSet(`product:${id}`, () => loadProduct(id), 60);
  });
  app.get('/stats', async () => ({ loader_calls: calls.count }));
  return app;
}
