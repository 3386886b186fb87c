import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { ProductsController } from './products.controller';
// <<<gen:imports>>>

@Module({
  imports: [
    TerminusModule,
    // <<<gen:modules>>>
  ],
  controllers: [ProductsController, HealthController],
})
export class AppModule {}
