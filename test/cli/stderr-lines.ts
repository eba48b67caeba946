/**
 * The lines a command wrote to stderr, without oidc-provider's warning about
 * the Node.js version (printed on import under Node 20, not by meetplane).
 */
export function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !line.startsWith('oidc-provider WARNING'));
}
