From alpine:3.20
Run echo mixed
Cmd ["sh"]
User nobody
