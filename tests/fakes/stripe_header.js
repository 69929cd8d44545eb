#!/usr/bin/env node
// Prints a Stripe-Signature header made by the official `stripe` package
// (stripe.webhooks.generateTestHeaderString), so the C++ verifier is checked against Stripe's own signer
// rather than against itself (tests/sidecar/payment_signatures_test.cpp runs this).
//
//   node stripe_header.js <payload-file> <secret> <unix-seconds>
//
// The payload is read from a file: an argument could not carry a NUL. generateTestHeaderString takes a string
// and signs its UTF-8 encoding, so a payload that is not valid UTF-8 is refused (exit 3) rather than signed
// with replacement characters. Install with `npm ci --prefix tests/fakes` (the exact version is pinned in
// package-lock.json).
'use strict';

const fs = require('fs');
const Stripe = require('stripe');

const [payloadFile, secret, timestamp] = process.argv.slice(2);
if (!payloadFile || secret === undefined || !/^[0-9]+$/.test(timestamp || '')) {
	process.stderr.write('usage: stripe_header.js <payload-file> <secret> <unix-seconds>\n');
	process.exit(2);
}

const bytes = fs.readFileSync(payloadFile);
const payload = bytes.toString('utf8');
if (!Buffer.from(payload, 'utf8').equals(bytes)) {
	process.stderr.write('stripe_header.js: the payload is not valid UTF-8\n');
	process.exit(3);
}
const header = Stripe.webhooks.generateTestHeaderString({
	payload,
	secret,
	timestamp: Number(timestamp),
});
process.stdout.write(header + '\n');
