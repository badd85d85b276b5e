// One live client connection as the live view shows it. Declared in domain so
// the gateway (which produces it) and the API (which lists it) share one shape
// without the API importing the gateway.
export interface ConnInfo {
  id: string;
  customerId: number;
  username: string;
  clientAddress: string;
  port: number;
  target: string;
  upstream: string;
  bytesUp: number;
  bytesDown: number;
  /** ISO-8601 */
  since: string;
}
