"""The local judging page, `evalkit judge`: which items an annotator sees (items), the
run and judgments behind the page (session), the HTTP layer (app), and how attention
checks turn out (attention). The page itself is static/judge.html, .js and .css."""
