import 'reflect-metadata';
import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { readFileSync } from 'node:fs';
import { InferenceSession, Tensor } from 'onnxruntime-node';

/*
 * The framework floor: NestJS on Express with its default JSON body parser and one route running the same session
 * as the bare server — no validation, auth, logging, metrics or prediction log. The gap between this and the bare
 * server is what Nest and Express cost; the gap between this and the service is what the service's own work costs.
 * Usage: nest-floor <model.onnx> <port>
 */
async function main(): Promise<void> {
  const [modelPath, port] = process.argv.slice(2);
  const session = await InferenceSession.create(readFileSync(modelPath), { intraOpNumThreads: 1 });
  const inputName = session.inputNames[0];
  const [labelOutput, probabilityOutput] = session.outputNames;

  @Controller()
  class PredictController {
    @Post('predict')
    @HttpCode(200)
    async predict(
      @Body() body: { features: number[] },
    ): Promise<{ prediction: number; probability: number }> {
      const tensor = new Tensor('float32', Float32Array.from(body.features), [1, body.features.length]);
      const outputs = await session.run({ [inputName]: tensor });
      const label = Number(outputs[labelOutput].data[0]);
      return { prediction: label, probability: Number(outputs[probabilityOutput].data[label]) };
    }
  }

  @Module({ controllers: [PredictController] })
  class FloorModule {}

  const app = await NestFactory.create(FloorModule, { logger: false });
  await app.listen(Number(port), '127.0.0.1');
  process.stdout.write('ready\n');
}

void main();
