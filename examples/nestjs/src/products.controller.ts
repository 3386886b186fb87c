import { Controller, Get, Param, ParseIntPipe } from '@nestjs/common';
import { RedisService } from './redis';
import { calls, loadProduct } from './catalog';

@Controller()
export class ProductsController {
  constructor(private readonly cache: RedisService) {}

  /** Cache-aside through getOrSet: concurrent misses run the loader once; Redis down = loader result. */
  @Get('products/:id')
  product(@Param('id', ParseIntPipe) id: number) {
    return this.cache.getOrSet(`product:${id}`, () => loadProduct(id), 60);
  }

  @Get('stats')
  stats() {
    return { loader_calls: calls.count };
  }
}
