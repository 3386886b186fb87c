import express, { type Express, type NextFunction, type Request, type Response } from 'express';
// <<<gen:imports>>>

const calls = { count: 0 };

/** A slow data source the example caches (stands in for a database or a remote API). */
async function loadProduct(id: number) {
  calls.count += 1;
  await new Promise((r) => setTimeout(r, 50));
  return { id, name: `Product ${id}`, price_cents: 1000 + id };
}

export function buildApp(): Express {
  const app = express();
  // <<<gen:middleware>>>

  // Cache-aside through getOrSet: concurrent misses run the loader once; Redis down = the loader's result.
  // Handlers pass rejections to next() themselves, so the app behaves the same on Express 4 and 5.
  app.get('/products/:id', (req: Request<{ id: string }>, res: Response, next: NextFunction) => {
    const id = Number(req.params.id);
    req.cache
      .getOrSet(`product:${id}`, () => loadProduct(id), 60)
      .then((product) => res.json(product))
      .catch(next);
  });
  app.delete('/products', (req: Request, res: Response, next: NextFunction) => {
    req.cache
      .deletePattern('product:*')
      .then((removed) => res.json({ removed }))
      .catch(next);
  });
  app.get('/stats', (_req: Request, res: Response) => {
    res.json({ loader_calls: calls.count, cache: app.locals.cache.stats() });
  });
  return app;
}
