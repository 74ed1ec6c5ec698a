// The one function of the Workers runtime's built-in module that cloudflare.ts uses (no Workers types needed).
declare module 'cloudflare:sockets' {
  export const connect: import('./workers.js').WorkersConnect;
}
