export declare const MODULE: string;
export declare const VERSION: string;
export declare const PROJECT_NAME: string;
export declare const PROJECT_SLUG: string;
export declare const DEFAULTS: Readonly<{
  url: string;
  tls: boolean;
  preconnect: boolean;
  retries: number;
  backoff: number;
  cacheTtl: number;
  keyPrefix: string;
  maxConnections: number;
  socketTimeout: number;
  connectTimeout: number;
  clientName: string;
  breakerThreshold: number;
  breakerResetTimeout: number;
}>;
