const sgMail = require('@sendgrid/mail');
sgMail.setApiKey('SG@@.l_XSGKL9S01a5c2MorIkEl.rmI41gQnQds8FpWl9jM2m1dmsOnc5czep_RXrm5c4Ow');
