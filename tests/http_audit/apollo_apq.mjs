// Apollo Client with its persisted query link, as an application would set
// it up, against a running Fulexo. Runs one query twice and prints one JSON
// line per HTTP exchange ({method, sentQuery, status, body}) and then the
// two results: the first exchange must be the hash alone (a miss), the
// second the hash with the text, the third the hash alone (a hit).
//
// Usage: node apollo_apq.mjs <graphql url> <bearer token> [get]
import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';

const [url, token, method] = process.argv.slice(2);
const useGet = method === 'get';

const exchanges = [];
const recordingFetch = async (input, init = {}) => {
  const response = await fetch(input, init);
  const text = await response.clone().text();
  let sentQuery;
  if (init.body) {
    sentQuery = JSON.parse(init.body).query !== undefined;
  } else {
    sentQuery = new URL(String(input)).searchParams.has('query');
  }
  exchanges.push({ method: init.method ?? 'GET', sentQuery, status: response.status, body: text });
  return response;
};

const link = createPersistedQueryLink({
  sha256: (text) => createHash('sha256').update(text).digest('hex'),
  useGETForHashedQueries: useGet,
}).concat(new HttpLink({ uri: url, fetch: recordingFetch, headers: { authorization: `Bearer ${token}` } }));

const query = gql`
  query ApolloOrders($first: Int!) {
    orders(first: $first) {
      edges { node { id status } }
    }
  }
`;

const run = async () => {
  // A fresh cache each time, so that the second run goes to the network.
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const result = await client.query({ query, variables: { first: 2 }, fetchPolicy: 'network-only' });
  return result.data;
};

const first = await run();
const second = await run();
for (const exchange of exchanges) console.log(JSON.stringify(exchange));
console.log(JSON.stringify({ first, second }));
