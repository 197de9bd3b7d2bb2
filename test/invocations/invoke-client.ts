/** POST /api/v1/namespaces/NS/tasks/NAME/invoke as a workflow would, with a bearer token. */
import { request } from 'undici';

export async function postInvoke(
  baseUrl: string,
  task: { namespace: string; name: string },
  token: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await request(`${baseUrl}/api/v1/namespaces/${task.namespace}/tasks/${task.name}/invoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  // body: the JSON answer, untyped as tests read any field of it (undefined for an empty body).
  return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
}
