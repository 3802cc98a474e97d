const apiKey = process.env.API_KEY;
const headers = { Authorization: `Bearer ${token}` };
const stripe = Stripe('pk_live_DHmXgpVG55i6EJAcCIrq9fnX');
