declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of a dump of a migrated PGlite database (pglite project). */
    pgliteDump: string;
    /** URL of a migrated template database on the test server (postgres project). */
    pgTemplateUrl: string;
    /** Prefix of every database this run creates, so teardown drops them all. */
    pgRunPrefix: string;
  }
}
export {};
