/** Tells whether a TCP connection to a host opens within `timeout` ms. */
export type ReachabilityCheck = (
  target: { readonly hostname: string; readonly port: number },
  timeout: number,
) => Promise<boolean>;
