import { AppConfig } from '@app/config';
import { PredictionResult, PredictionService, PreparedPrediction } from '@app/inference';
import {
  answerWithProblem,
  checkRepresentation,
  handOverBody,
  HttpMetrics,
  JsonBody,
  RequestLog,
} from '@app/observability';
import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { ApiKeys } from '../auth/api-keys';
import { KServePredictRequest } from '../models/kserve.dto';
import { instancePaths, kservePredictResponseJson } from '../models/models.controller';
import { predictResponse } from '../predict/predict.controller';
import { PredictRequest } from '../predict/predict.dto';
import { BodyCheck, compileBodyCheck } from './body-check';
import { verbatimRows } from './verbatim-rows';

/** One prediction route as the lane serves it. */
interface LaneRoute {
  /** The route pattern, as the metrics label it. */
  pattern: string;
  check: BodyCheck;
  instances(body: Record<string, unknown>): { instances: unknown[]; paths: string[] };
  /** The body holds one row's array (`features`), not an array of rows. */
  oneRow: boolean;
  /**
   * Where the rows, all arrays, sit in the body's text, when the prediction log can copy them as they are (rows
   * keyed by feature name are not in the model's order: the log formats those).
   */
  rowsIn(text: string, instances: unknown[]): { start: number; end: number } | undefined;
  /** The controller's answer, as JSON text. */
  answer(result: PredictionResult): string;
}

/** `/v1/models/{name}:predict` for names the model repository can serve; anything odder takes the Nest route. */
const KSERVE_PREDICT = /^\/v1\/models\/([A-Za-z0-9][A-Za-z0-9._-]*):predict$/;

const noop = () => undefined;

/**
 * The prediction routes' fast lane, in front of Express on the app's HTTP server. A request it recognises
 * (POST /predict, POST /v1/models/{name}:predict) is counted and logged from arrival; if it carries a valid key and a
 * JSON body within BODY_LIMIT that parses, passes the DTO's rules and fits the model, the lane predicts and answers
 * with the controllers' own response builders. At the first thing it would have to refuse, it hands the request to
 * Express untouched (with the bytes it has read), so every error answer is exactly the Nest pipeline's. A failure
 * after the prediction was queued (overload, a runtime error) is answered by the problem filter's own writer.
 *
 * Everything it does is the shared code: ApiKeys (the guard's), the body parser's representation check and
 * decoder, the DTOs' class-validator rules, PredictionService, RequestLog, HttpMetrics, the prediction log (through
 * PredictionService's sink). What it skips is Express routing and Nest's per-request pipeline.
 */
@Injectable()
export class PredictionLane {
  private readonly logger = new Logger(PredictionLane.name);

  constructor(
    private readonly config: AppConfig,
    private readonly keys: ApiKeys,
    private readonly body: JsonBody,
    private readonly predictions: PredictionService,
    private readonly requestLog: RequestLog,
    private readonly httpMetrics: HttpMetrics,
  ) {}

  get enabled(): boolean {
    return this.config.get('FAST_LANE_ENABLED');
  }

  /** Puts the lane in front of the request listener (the Express app) of the app's HTTP server. */
  install(server: Server): void {
    const listeners = server.listeners('request') as RequestListener[];
    if (listeners.length !== 1) {
      throw new Error(`fast lane: expected one request listener (Express), found ${listeners.length}`);
    }
    const [express] = listeners;
    server.removeListener('request', express);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!this.take(req, res, express)) void express(req, res);
    });
  }

  /** Takes the request if it is one of the lane's; false leaves it, untouched, to `next`. */
  take(req: IncomingMessage, res: ServerResponse, next: RequestListener): boolean {
    if (req.method !== 'POST') return false;
    const target = this.routeOf(req.url ?? '/');
    if (target === undefined) return false;
    const { route, model } = target;

    const startedAt = performance.now();
    this.httpMetrics.begin(req, res, route.pattern, startedAt);
    const requestId = this.requestLog.begin(req, res, startedAt);
    if (!this.readable(req)) return false;

    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A client that goes away mid-body gets nothing: its request line says "request aborted".
    req.on('error', noop);
    req.on('end', () => {
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const prepared = this.prepare(route, model, raw);
      if (prepared === undefined) {
        handOverBody(req, raw);
        void next(req, res);
        return;
      }
      this.predictions.run(prepared, requestId).then(
        (result) => send(res, route.answer(result)),
        (error: unknown) => answerWithProblem(error, req, res, this.logger),
      );
    });
    return true;
  }

  /** The lane's two routes, built once: nothing but the model name differs between requests. */
  private readonly predictRoute: LaneRoute = {
    pattern: '/predict',
    check: compileBodyCheck(PredictRequest),
    instances: (body) => ({ instances: [body.features], paths: ['features'] }),
    oneRow: true,
    rowsIn: (text) => verbatimRows(text, 1, false),
    answer: (result) => JSON.stringify(predictResponse(result)),
  };

  private readonly kserveRoute: LaneRoute = {
    pattern: '/v1/models/:name:predict',
    check: compileBodyCheck(KServePredictRequest),
    instances: (body) => {
      const instances = body.instances as unknown[];
      return { instances, paths: instancePaths(instances) };
    },
    oneRow: false,
    rowsIn: (text, instances) => verbatimRows(text, instances.length, true),
    answer: kservePredictResponseJson,
  };

  /** The route a URL takes and the model it names (undefined: the default model). */
  private routeOf(url: string): { route: LaneRoute; model: string | undefined } | undefined {
    if (url === '/predict') return { route: this.predictRoute, model: undefined };
    const kserve = KSERVE_PREDICT.exec(url);
    return kserve === null ? undefined : { route: this.kserveRoute, model: kserve[1] };
  }

  /** A valid key and a JSON body of known length within BODY_LIMIT: else the Nest pipeline says what is wrong. */
  private readable(req: IncomingMessage): boolean {
    const check = this.keys.check(req.headers);
    if (check === 'missing' || check === 'invalid') return false;
    const length = Number(req.headers['content-length']);
    if (!(length > 0 && length <= this.body.limitBytes) || req.headers['transfer-encoding'] !== undefined) {
      return false;
    }
    try {
      checkRepresentation(req);
      return true;
    } catch {
      return false;
    }
  }

  /** The body checked as the Nest pipeline checks it; undefined at the first failure (the pipeline words it). */
  private prepare(route: LaneRoute, model: string | undefined, raw: Buffer): PreparedPrediction | undefined {
    try {
      const { text, value: body } = this.body.parseUnscanned(raw);
      if (!route.check(body)) return undefined;
      const { instances, paths } = route.instances(body);
      // Rows of numbers that pass the row checks below leave nothing for the body scan to refuse (no non-finite
      // number, three levels deep at most, no keys). Rows keyed by name could carry a prototype key as a feature name.
      const arrayRows = instances.every(Array.isArray);
      if (!arrayRows && !this.body.passesScan(body)) return undefined;
      const prepared = this.predictions.prepare(model, instances, paths);
      // Offsets in the text are offsets in the bytes only while every character is one byte.
      const span = raw.length === text.length && arrayRows ? route.rowsIn(text, instances) : undefined;
      return span === undefined
        ? prepared
        : { ...prepared, featuresJson: { body: raw, ...span, oneRow: route.oneRow } };
    } catch {
      return undefined;
    }
  }
}

/** What Express' `res.json` sends, less the ETag (the app turns ETags off: predictions are not cacheable). */
function send(res: ServerResponse, body: string): void {
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
