// Deployment settings for the console. The local stack needs none: the console asks it for
// its URL and dev key. When you host these files yourself, fill in what applies, e.g.
//
//   window.CLOUTAGENT_CONFIG = {
//     wsUrl: "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod",
//     cognito: {domain: "https://auth.example.com", clientId: "…"},  // hosted UI, implicit grant
//   };
//
// A `?wsUrl=` query parameter overrides wsUrl.
window.CLOUTAGENT_CONFIG = window.CLOUTAGENT_CONFIG || {};
