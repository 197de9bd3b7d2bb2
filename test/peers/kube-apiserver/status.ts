/**
 * The fake API server's errors, written as kube-apiserver writes them: `metav1.Status` bodies (reason, code,
 * message, details) and field errors in apimachinery's `field.Error` form. Clients (and the tests that pin the
 * messages) see the same text as from a real server, e.g.
 * `Operation cannot be fulfilled on tasks.provisio.dev "x": the object has been modified; ...`.
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: { continue?: string; resourceVersion?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  /** Absent on a Success. */
  code: number;
}

/** A failed API call: thrown inside the fake, answered as its Status. */
export class ApiError extends Error {
  constructor(
    readonly status: Status,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
  }
  get code(): number {
    return this.status.code;
  }
}

/** A group and resource (plural), as in `tasks.provisio.dev` or `secrets`. */
export interface GroupResource {
  group: string;
  resource: string;
}

export const OPTIMISTIC_LOCK_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

/** GroupResource.String(): `tasks.provisio.dev`, or `secrets` for the core group. */
export const qualifiedResource = (gr: GroupResource): string => (gr.group ? `${gr.resource}.${gr.group}` : gr.resource);

export function failure(code: number, reason: string | undefined, message: string, details?: StatusDetails): Status {
  // Field order as Go encodes metav1.Status.
  const s = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message } as Status;
  if (reason) s.reason = reason;
  if (details) s.details = compactDetails(details);
  s.code = code;
  return s;
}

function compactDetails(d: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  if (d.name) out.name = d.name;
  if (d.group) out.group = d.group;
  if (d.kind) out.kind = d.kind;
  if (d.uid) out.uid = d.uid;
  if (d.causes && d.causes.length > 0) out.causes = d.causes;
  if (d.retryAfterSeconds) out.retryAfterSeconds = d.retryAfterSeconds;
  return out;
}

const resourceDetails = (gr: GroupResource, name: string): StatusDetails => ({
  name,
  group: gr.group,
  kind: gr.resource,
});

export const errors = {
  notFound: (gr: GroupResource, name: string) =>
    new ApiError(failure(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, resourceDetails(gr, name))),
  alreadyExists: (gr: GroupResource, name: string) =>
    new ApiError(
      failure(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, resourceDetails(gr, name)),
    ),
  /** 409 Conflict: `Operation cannot be fulfilled on <resource> "<name>": <cause>`. */
  conflict: (gr: GroupResource, name: string, cause: string = OPTIMISTIC_LOCK_MESSAGE) =>
    new ApiError(
      failure(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${cause}`,
        resourceDetails(gr, name),
      ),
    ),
  /** 422 Invalid, from field errors (apimachinery's errors.NewInvalid). */
  invalid: (group: string, kind: string, name: string, errs: FieldError[]) => {
    const qualifiedKind = group ? `${kind}.${group}` : kind;
    const aggregate = aggregateMessage(errs.map(fieldErrorString));
    const message = aggregate
      ? `${qualifiedKind} "${name}" is invalid: ${aggregate}`
      : `${qualifiedKind} "${name}" is invalid`;
    const causes = errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }));
    return new ApiError(failure(422, 'Invalid', message, { name, group, kind, causes }));
  },
  badRequest: (message: string) => new ApiError(failure(400, 'BadRequest', message)),
  methodNotAllowed: () =>
    new ApiError(
      failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}),
    ),
  unsupportedMediaType: (message: string) => new ApiError(failure(415, 'UnsupportedMediaType', message)),
  expired: (message: string) => new ApiError(failure(410, 'Expired', message)),
  internal: (message: string) =>
    new ApiError(failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] })),
  /** An error the real server did not convert to a Status: 500 without a reason. */
  unknown: (message: string) => new ApiError(failure(500, undefined, message)),
  unauthorized: () => new ApiError(failure(401, 'Unauthorized', 'Unauthorized')),
  notFoundPath: () => new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource', {})),
  requestEntityTooLarge: (limit: number) =>
    new ApiError(failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`)),
};

/** The Status apimachinery's NewGenericServerResponse builds for a bare HTTP code (used by injected faults). */
export function genericServerResponse(code: number, retryAfterSeconds?: number): Status {
  const table: Record<number, [string, string]> = {
    400: ['BadRequest', 'the server rejected our request for an unknown reason'],
    401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
    403: ['Forbidden', 'the server does not allow access to the requested resource'],
    404: ['NotFound', 'the server could not find the requested resource'],
    405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
    409: ['Conflict', 'the server reported a conflict'],
    410: ['Expired', 'the server reported that the resource has expired'],
    422: ['Invalid', 'the server rejected our request due to an error in our request'],
    429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
    500: ['InternalError', 'an error on the server ("") has prevented the request from succeeding'],
    503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
    504: [
      'Timeout',
      'the server was unable to return a response in the time allotted, but may still be processing the request',
    ],
  };
  const [reason, message] = table[code] ?? [
    'Unknown',
    `the server responded with the status code ${code} but did not return more information`,
  ];
  return failure(code, reason, message, { retryAfterSeconds });
}

export function success(details: StatusDetails): Status {
  // code is omitempty in metav1.Status: a Success carries none.
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: compactDetails(details),
  } as Status;
}

// ---------------------------------------------------------------------------------------------------------------
// Field errors (k8s.io/apimachinery/pkg/util/validation/field)

export type FieldErrorType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError'
  | 'FieldValueTypeInvalid';

/** A value printed verbatim (Go's `%#v` of a non-JSON value, such as `0x0` for a uint64 zero). */
export class GoValue {
  constructor(readonly text: string) {}
}

/** Marks a field error that prints no value. */
export const OMIT_VALUE = Symbol('omit');

export interface FieldError {
  type: FieldErrorType;
  /** Field path as apimachinery prints it: `spec.schedule.cron`, `spec.items[0]`, `data[key]`. */
  field: string;
  value: unknown;
  detail: string;
}

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
  FieldValueTypeInvalid: 'Invalid value',
};

export const fieldErrors = {
  required: (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, value: '', detail }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    value,
    detail,
  }),
  notSupported: (field: string, value: unknown, supported: unknown[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    value,
    detail:
      supported.length > 0 ? `supported values: ${supported.map((v) => JSON.stringify(String(v))).join(', ')}` : '',
  }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, value: '', detail }),
  tooLong: (field: string, maxLength: number): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    value: '',
    detail: `may not be more than ${maxLength} ${maxLength === 1 ? 'byte' : 'bytes'}`,
  }),
  tooMany: (field: string, actual: number, max: number): FieldError => ({
    type: 'FieldValueTooMany',
    field,
    value: actual,
    detail: `must have at most ${max} items`,
  }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueTypeInvalid',
    field,
    value,
    detail,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value, detail: '' }),
};

/** field.Error.ErrorBody(): the message without the field path. */
export function fieldErrorBody(e: FieldError): string {
  let s: string;
  if (
    e.type === 'FieldValueRequired' ||
    e.type === 'FieldValueForbidden' ||
    e.type === 'FieldValueTooLong' ||
    e.type === 'InternalError' ||
    e.value === OMIT_VALUE
  ) {
    s = TYPE_TEXT[e.type];
  } else {
    s = `${TYPE_TEXT[e.type]}: ${goValue(e.value)}`;
  }
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export const fieldErrorString = (e: FieldError): string => `${e.field}: ${fieldErrorBody(e)}`;

/** How field.Error prints a bad value: simple values plainly, strings quoted, others as Go's `%#v`. */
function goValue(v: unknown): string {
  if (v instanceof GoValue) return v.text;
  if (v === null || v === undefined) return '"null"';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return goSyntax(v);
}

function goSyntax(v: unknown): string {
  if (v === null || v === undefined) return 'interface {}(nil)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[]interface {}{${v.map(goSyntax).join(', ')}}`;
  const entries = Object.keys(v as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${goSyntax((v as Record<string, unknown>)[k])}`);
  return `map[string]interface {}{${entries.join(', ')}}`;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several deduplicated inside brackets. */
function aggregateMessage(messages: string[]): string {
  const seen = [...new Set(messages)];
  if (seen.length === 0) return '';
  if (seen.length === 1) return seen[0];
  return `[${seen.join(', ')}]`;
}
