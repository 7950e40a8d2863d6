// A tiny web app whose dependency lives in /app/node_modules, installed at image build time.
'use strict';
const express = require('express');

const app = express();
app.listen(3000, () => console.log('listening on 3000'));
