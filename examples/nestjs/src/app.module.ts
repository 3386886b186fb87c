import { Module } from '@nestjs/common';
import { ProductsController } from './products.controller';
// <<<gen:imports>>>

@Module({
  imports: [
    // <<<gen:modules>>>
  ],
  controllers: [ProductsController],
})
export class AppModule {}
