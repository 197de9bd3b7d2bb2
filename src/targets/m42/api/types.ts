/** The JSON shapes of the home solution's REST API v1 (shared/reference/m42-rest-api.md). */

export type AttributeType =
  | 'string'
  | 'number'
  | 'date'
  | 'datetime'
  | 'reference'
  | 'static-value'
  | 'external-reference'
  | 'worklog'
  | (string & {});

export interface TemplateAttribute {
  name?: string;
  multiValue?: boolean;
  type: AttributeType;
  file?: boolean;
  values?: Array<{ code: string | null; value: string }>;
  target?: unknown[];
}

export interface TemplateInfo {
  name?: string;
  code: string;
  allowedFolders: Array<{ folderName?: string; folderCode: string }>;
  attributes: Record<string, TemplateAttribute>;
}

/** One value as read: `{value}`, a reference `{name, dataCardId, ...}`, a static value `{value, code}`, ... */
export type ReadValue = Record<string, unknown>;

export interface CardJson {
  name?: string;
  dataCardId: number;
  templateCode?: string;
  folderCode?: string;
  folderName?: string;
  deleted?: boolean;
  hidden?: boolean;
  data?: Record<string, { name?: string; type?: string; values?: ReadValue[] }>;
}

/** An attribute as written: `{values: [...]}`; an empty list clears it. */
export type WriteData = Record<string, { values: Array<Record<string, unknown>> }>;

export interface CardPage {
  meta?: { count?: number; limit?: number; links?: { next?: string | null } };
  data?: CardJson[];
}

export interface AttributeError {
  attributeCode?: string;
  attributeType?: string;
  message?: string;
  error?: string;
}

export interface BulkItemResult {
  dataCard?: { dataCardId?: number; name?: string; url?: string } | null;
  errors?: AttributeError[] | null;
}

export interface BulkResult {
  meta?: { importResult?: { handledDataCards?: number; savedDataCards?: number; notSavedDataCards?: number } };
  data?: BulkItemResult[];
}

export type BulkItem =
  | { folderCode: string; data: WriteData }
  | { dataCardId: number; folderCode?: string; data: WriteData };
