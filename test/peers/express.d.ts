/** express 4 ships no types and @types/express is not installed: the SCIM peer types what it uses itself. */
declare module 'express' {
  interface App {
    use(...handlers: unknown[]): void;
    listen(port: number, host: string): import('node:http').Server;
  }
  function express(): App;
  export default express;
}
