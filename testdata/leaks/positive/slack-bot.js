const { WebClient } = require('@slack/web-api');
const web = new WebClient('xo@@xb-36529936418-2731444766729-3i6hnaOmI0uGW7DShdW8dDby');
