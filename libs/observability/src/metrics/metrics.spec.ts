import {
  Body,
  CanActivate,
  Controller,
  Get,
  HttpCode,
  Injectable,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { execFileSync, spawnSync } from 'node:child_process';
import { register } from 'prom-client';
import request from 'supertest';
import type { HttpApp } from '../../../../test/support/http';
import { createObservabilityApp } from '../../../../test/support/observability-app';
import { DomainError } from '../problems/domain-error';
import { InferenceMetrics } from './inference-metrics';

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(): boolean {
    throw new DomainError({ code: 'unauthorized', status: 401, title: 'Unauthorized', detail: 'no key' });
  }
}

@Controller('v1/models')
class ModelsController {
  @Get(':name')
  describe(@Param('name') name: string) {
    return { name };
  }

  @Post(':name\\:predict')
  @HttpCode(200)
  predict(@Body() body: unknown) {
    return body;
  }

  @Get(':name/secret')
  @UseGuards(DenyGuard)
  secret() {
    return 'never';
  }
}

/** The Debian package `prometheus` installs it here; CI installs that package. */
function promtool(): string {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
  if (found === '') {
    throw new Error(
      'promtool is not installed: this spec checks the exposition with the real tool. ' +
        "Install Debian's package: apt-get install -y prometheus (provides /usr/bin/promtool).",
    );
  }
  return found;
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('MetricsModule', () => {
  let app: HttpApp;
  let metrics: InferenceMetrics;

  beforeAll(async () => {
    ({ app } = await createObservabilityApp([ModelsController], { BODY_LIMIT: '1kb', LOG_LEVEL: 'silent' }));
    metrics = app.get(InferenceMetrics);
  });
  afterAll(() => app.close());
  beforeEach(() => register.resetMetrics());

  const scrape = async () => {
    const res = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8; version=0.0.4');
    return res.text;
  };

  it('labels requests with the route pattern, never the raw URL, however they end', async () => {
    const server = app.getHttpServer();
    await request(server).get('/v1/models/iris').expect(200);
    await request(server).get('/v1/models/wine').expect(200);
    await request(server)
      .post('/v1/models/iris:predict')
      .set('Content-Type', 'application/json')
      .send('{"a":1}')
      .expect(200);
    // Rejected by the body parser before routing, by a guard, and by no route at all.
    await request(server)
      .post('/v1/models/iris:predict')
      .set('Content-Type', 'application/json')
      .send(`[${'1,'.repeat(600)}1]`)
      .expect(413);
    await request(server).get('/v1/models/iris/secret').expect(401);
    await request(server).get('/wp-admin/install.php').expect(404);
    await request(server).get('/metrics').expect(200);

    const text = await scrape();
    expect(sample(text, 'http_requests_total{method="GET",route="/v1/models/:name",status="200"}')).toBe(2);
    expect(
      sample(text, 'http_requests_total{method="POST",route="/v1/models/:name:predict",status="200"}'),
    ).toBe(1);
    expect(
      sample(text, 'http_requests_total{method="POST",route="/v1/models/:name:predict",status="413"}'),
    ).toBe(1);
    expect(
      sample(text, 'http_requests_total{method="GET",route="/v1/models/:name/secret",status="401"}'),
    ).toBe(1);
    expect(sample(text, 'http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(
      sample(text, 'http_request_duration_seconds_count{method="GET",route="/v1/models/:name",status="200"}'),
    ).toBe(2);
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="0.001",method="GET",route="/v1/models/:name",status="200"}',
    );
    expect(text).not.toContain('iris');
    expect(text).not.toContain('wp-admin');
    // The scrape itself is not counted.
    expect(text).not.toContain('route="/metrics"');
  });

  it('exposes inference metrics with their labels and types', async () => {
    metrics.observeInference('iris', '3', 0.0004);
    metrics.observeInference('iris', '3', 0.02);
    metrics.countPredictions('iris', '3', 'setosa', 5);
    metrics.countPredictions('iris', '3', 'virginica');
    metrics.countPredictions('housing', '1', '', 2);
    metrics.setModelLoaded('iris', '3', true);
    metrics.setModelLoaded('housing', '1', false);

    const text = await scrape();
    expect(text).toContain('# TYPE model_inference_duration_seconds histogram');
    expect(text).toContain('# TYPE model_predictions_total counter');
    expect(text).toContain('# TYPE model_loaded gauge');
    expect(
      sample(text, 'model_inference_duration_seconds_bucket{le="0.0001",model="iris",version="3"}'),
    ).toBe(0);
    expect(
      sample(text, 'model_inference_duration_seconds_bucket{le="0.0005",model="iris",version="3"}'),
    ).toBe(1);
    expect(sample(text, 'model_inference_duration_seconds_bucket{le="0.025",model="iris",version="3"}')).toBe(
      2,
    );
    expect(sample(text, 'model_inference_duration_seconds_bucket{le="1",model="iris",version="3"}')).toBe(2);
    expect(sample(text, 'model_inference_duration_seconds_count{model="iris",version="3"}')).toBe(2);
    expect(sample(text, 'model_inference_duration_seconds_sum{model="iris",version="3"}')).toBeCloseTo(
      0.0204,
      10,
    );
    expect(sample(text, 'model_predictions_total{model="iris",version="3",label="setosa"}')).toBe(5);
    expect(sample(text, 'model_predictions_total{model="iris",version="3",label="virginica"}')).toBe(1);
    expect(sample(text, 'model_predictions_total{model="housing",version="1",label=""}')).toBe(2);
    expect(sample(text, 'model_loaded{model="iris",version="3"}')).toBe(1);
    expect(sample(text, 'model_loaded{model="housing",version="1"}')).toBe(0);
  });

  it('includes the default process metrics, event-loop lag among them', async () => {
    const text = await scrape();
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
  });

  it('passes promtool check metrics as a whole', async () => {
    const tool = promtool();
    await request(app.getHttpServer()).get('/v1/models/iris').expect(200);
    await request(app.getHttpServer()).get('/nope').expect(404);
    metrics.observeInference('iris', '3', 0.001);
    metrics.countPredictions('iris', '3', 'setosa');
    metrics.countPredictions('housing', '1', '');
    metrics.setModelLoaded('iris', '3', true);
    const text = await scrape();

    let output: string;
    try {
      output = execFileSync(tool, ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string };
      throw new Error(`promtool rejected the exposition:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`, {
        cause: error,
      });
    }
    expect(output.trim()).toBe('');
  });
});
