import { AppConfig } from '@app/config';
import {
  inferenceAnswer,
  type InferenceRequestBody,
  ModelRegistry,
  planInference,
  PredictionResult,
  PredictionService,
  PreparedPrediction,
  TensorPredictionResult,
} from '@app/inference';
import { answerWithProblem, HttpMetrics, RequestLog } from '@app/observability';
import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { ApiKeys } from '../auth/api-keys';
import { checkBinaryRepresentation, inferenceHeaderLength } from '../http-edge/binary-tensor-body';
import { checkRepresentation, handOverBody, JsonBody } from '../http-edge/json-body';
import { sendJson } from '../http-edge/send-json';
import { KServePredictRequest } from '../models/kserve.dto';
import { instancePaths, kservePredictResponseJson } from '../models/models.controller';
import { predictResponse } from '../predict/predict.controller';
import { PredictRequest } from '../predict/predict.dto';
import { sendInferenceAnswer } from '../v2/inference-answer';
import { InferenceRequest } from '../v2/open-inference.dto';
import { compileBodyCheck } from './body-check';
import { verbatimRows } from './verbatim-rows';

/** A request the lane can answer: its rows checked and ready to queue, and how the answer is written. */
interface LaneWork {
  prepared: PreparedPrediction;
  respond: (res: ServerResponse, result: TensorPredictionResult) => void;
}

/** One prediction route as the lane serves it. */
interface LaneRoute {
  /** The route pattern, as the metrics label it (the controller's, so a handed-over request is labelled alike). */
  pattern: string;
  /** Whether the body is in a form the route reads (headers only; nothing read yet). */
  readable(req: IncomingMessage): boolean;
  /** The request's work, or undefined (or a throw) at the first thing the Nest pipeline must word. */
  prepare(req: IncomingMessage, raw: Buffer, target: Target): LaneWork | undefined;
}

/** The model a URL names (none: the default model) and the version (none: the model's default). */
interface Target {
  model?: string;
  version?: string;
}

/** Model names and versions as the model repository can serve them; anything odder takes the Nest route. */
const NAME = '([A-Za-z0-9][A-Za-z0-9._-]*)';
const KSERVE_PREDICT = new RegExp(`^/v1/models/${NAME}:predict$`);
const V2_INFER = new RegExp(`^/v2/models/${NAME}/infer$`);
const V2_VERSION_INFER = new RegExp(`^/v2/models/${NAME}/versions/${NAME}/infer$`);

const noop = () => undefined;

const jsonReadable = (req: IncomingMessage): boolean => {
  try {
    checkRepresentation(req);
    return true;
  } catch {
    return false;
  }
};

/**
 * The prediction routes' fast lane, in front of Express on the app's HTTP server. A request it recognises
 * (POST /predict, POST /v1/models/{name}:predict, POST /v2/models/{name}[/versions/{v}]/infer) is counted and
 * logged from arrival; if it carries a valid key and a body within BODY_LIMIT that parses, passes the DTO's rules
 * and fits the model, the lane predicts and answers with the controllers' own code. At the first thing it would have
 * to refuse, it hands the request to Express untouched (with the bytes it has read), so every error answer is
 * exactly the Nest pipeline's. A failure after the prediction was queued (overload, a runtime error) is answered by
 * the problem filter's own writer.
 *
 * Everything it does is the shared code: ApiKeys (the guard's), the body parser's representation checks and
 * decoder, the DTOs' class-validator rules, PredictionService, the Open Inference Protocol's planning and answer,
 * RequestLog, HttpMetrics, the prediction log (through PredictionService's sink). What it skips is Express routing
 * and Nest's per-request pipeline.
 */
@Injectable()
export class PredictionLane {
  private readonly logger = new Logger(PredictionLane.name);

  constructor(
    private readonly config: AppConfig,
    private readonly keys: ApiKeys,
    private readonly body: JsonBody,
    private readonly registry: ModelRegistry,
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
    const { route } = target;

    const startedAt = performance.now();
    this.httpMetrics.begin(req, res, route.pattern, startedAt);
    const requestId = this.requestLog.begin(req, res, startedAt);
    if (!this.readable(req, route)) return false;

    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A client that goes away mid-body gets nothing: its request line says "request aborted".
    req.on('error', noop);
    req.on('end', () => {
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      let work: LaneWork | undefined;
      try {
        work = route.prepare(req, raw, target);
      } catch {
        work = undefined;
      }
      if (work === undefined) {
        handOverBody(req, raw);
        void next(req, res);
        return;
      }
      const answered = work;
      this.predictions.run(answered.prepared, requestId).then(
        (result) => answered.respond(res, result),
        (error: unknown) => answerWithProblem(error, req, res, this.logger),
      );
    });
    return true;
  }

  /** The lane's routes, built once: nothing but the model name (and version) differs between requests. */
  private readonly predictRoute = this.rowsRoute({
    pattern: '/predict',
    dto: PredictRequest,
    instances: (body) => ({ instances: [body.features], paths: ['features'] }),
    oneRow: true,
    answer: (result) => JSON.stringify(predictResponse(result)),
  });

  private readonly kserveRoute = this.rowsRoute({
    pattern: '/v1/models/:name:predict',
    dto: KServePredictRequest,
    instances: (body) => {
      const instances = body.instances as unknown[];
      return { instances, paths: instancePaths(instances) };
    },
    oneRow: false,
    answer: kservePredictResponseJson,
  });

  private readonly v2Route = this.inferRoute('/v2/models/:name/infer');

  private readonly v2VersionRoute = this.inferRoute('/v2/models/:name/versions/:version/infer');

  /** The routes whose URL names a model (and a version), by URL pattern. */
  private readonly namedRoutes: ReadonlyArray<readonly [RegExp, LaneRoute]> = [
    [KSERVE_PREDICT, this.kserveRoute],
    [V2_INFER, this.v2Route],
    [V2_VERSION_INFER, this.v2VersionRoute],
  ];

  /** The route a URL takes and the model and version it names. */
  private routeOf(url: string): (Target & { route: LaneRoute }) | undefined {
    if (url === '/predict') return { route: this.predictRoute };
    for (const [pattern, route] of this.namedRoutes) {
      const match = pattern.exec(url);
      if (match !== null) return { route, model: match[1], version: match[2] };
    }
    return undefined;
  }

  /** A valid key and a body of known length within BODY_LIMIT, in a form the route reads: else Nest says what is wrong. */
  private readable(req: IncomingMessage, route: LaneRoute): boolean {
    const check = this.keys.check(req.headers);
    if (check === 'missing' || check === 'invalid') return false;
    const length = Number(req.headers['content-length']);
    if (!(length > 0 && length <= this.body.limitBytes) || req.headers['transfer-encoding'] !== undefined) {
      return false;
    }
    return route.readable(req);
  }

  /**
   * `/predict` and KServe: a JSON body of rows, checked as the Nest pipeline checks it. Rows of numbers that pass the
   * row checks leave nothing for the body scan to refuse (no non-finite number, three levels deep at most, no keys),
   * so the lane parses without it; rows keyed by name could carry a prototype key as a feature name, and get it.
   */
  private rowsRoute(spec: {
    pattern: string;
    dto: new () => object;
    instances(body: Record<string, unknown>): { instances: unknown[]; paths: string[] };
    /** The body holds one row's array (`features`), not an array of rows. */
    oneRow: boolean;
    /** The controller's answer, as JSON text. */
    answer(result: PredictionResult): string;
  }): LaneRoute {
    const check = compileBodyCheck(spec.dto);
    return {
      pattern: spec.pattern,
      readable: jsonReadable,
      prepare: (_req, raw, { model }) => {
        const { text, value: body } = this.body.parseUnscanned(raw);
        if (!check(body)) return undefined;
        const { instances, paths } = spec.instances(body);
        const arrayRows = instances.every(Array.isArray);
        if (!arrayRows && !this.body.passesScan(body)) return undefined;
        const prepared = this.predictions.prepare(model, instances, paths);
        // Offsets in the text are offsets in the bytes only while every character is one byte. The log copies rows
        // written as arrays from them; rows keyed by feature name are not in the model's order, and it formats those.
        const span =
          raw.length === text.length && arrayRows
            ? verbatimRows(text, instances.length, !spec.oneRow)
            : undefined;
        return {
          prepared:
            span === undefined
              ? prepared
              : { ...prepared, featuresJson: { body: raw, ...span, oneRow: spec.oneRow } },
          respond: (res, result) => sendJson(res, spec.answer(result)),
        };
      },
    };
  }

  /**
   * The Open Inference Protocol's infer routes: a JSON inference request, or Triton's binary tensor data (the JSON
   * header, its length in Inference-Header-Content-Length, then the tensors' bytes), planned and answered by the
   * controller's own functions.
   */
  private inferRoute(pattern: string): LaneRoute {
    const check = compileBodyCheck(InferenceRequest);
    return {
      pattern,
      readable: (req) => {
        try {
          if (inferenceHeaderLength(req) === undefined) checkRepresentation(req);
          else checkBinaryRepresentation(req);
          return true;
        } catch {
          return false;
        }
      },
      prepare: (req, raw, target) => {
        const headerLength = inferenceHeaderLength(req);
        if (headerLength !== undefined && headerLength > raw.length) return undefined;
        const header = headerLength === undefined ? raw : raw.subarray(0, headerLength);
        const body = this.body.decode(header);
        if (!check(body)) return undefined;
        const request = body as unknown as InferenceRequestBody;
        const model = this.registry.get(target.model!, target.version);
        const plan = planInference(
          model.signature,
          request,
          headerLength === undefined ? undefined : raw.subarray(headerLength),
        );
        return {
          // Looked up and queued in one turn of the event loop, as the controller does.
          prepared: this.predictions.prepareFor(model, plan),
          respond: (res, result) =>
            sendInferenceAnswer(res, inferenceAnswer(model.signature, request, plan, result)),
        };
      },
    };
  }
}
