import { PredictionResult, PredictionService } from '@app/inference';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ProblemResponses, RequiresApiKey } from '../openapi';
import { RequestId } from '../request-id.decorator';
import { PredictRequest, PredictResponse } from './predict.dto';

@ApiTags('predict')
@RequiresApiKey()
@Controller()
export class PredictController {
  constructor(private readonly predictions: PredictionService) {}

  @Post('predict')
  @HttpCode(200)
  @ApiOperation({ summary: 'Predict one row with the default model' })
  @ApiOkResponse({ type: PredictResponse })
  @ProblemResponses(400, 401, 413, 422, 503)
  async predict(@Body() body: PredictRequest, @RequestId() requestId: string): Promise<PredictResponse> {
    return predictResponse(
      await this.predictions.predict(undefined, [body.features], ['features'], requestId),
    );
  }
}

/** The seed contract's answer for one row; the fast lane answers with it too. */
export function predictResponse({ model, predictions, latencyMs }: PredictionResult): PredictResponse {
  const [prediction] = predictions;
  const base = { model: model.name, version: model.version, latency_ms: round(latencyMs) };
  return prediction.task === 'classification'
    ? {
        prediction: prediction.label,
        probability: prediction.probability,
        probabilities: prediction.probabilities,
        ...base,
      }
    : { prediction: prediction.value, ...base };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
