import { Controller, Delete, Get, Param, ParseIntPipe } from '@nestjs/common';
import { RedisService } from './redis';
import { calls, loadProduct } from './catalog';

@Controller()
export class ProductsController {
  // Injected by class: the wrapper exports RedisService as a runtime value, so emitDecoratorMetadata can name it.
  constructor(private readonly cache: RedisService) {}

  /** Cache-aside through getOrSet: concurrent misses run the loader once; Redis down = the loader's result. */
  @Get('products/:id')
  product(@Param('id', ParseIntPipe) id: number) {
    return this.cache.getOrSet(`product:${id}`, () => loadProduct(id), 60);
  }

  /** Invalidation: SCAN + UNLINK within the key prefix. */
  @Delete('products')
  async invalidate() {
    return { removed: await this.cache.deletePattern('product:*') };
  }

  @Get('stats')
  stats() {
    return { loader_calls: calls.count, cache: this.cache.stats() };
  }
}
