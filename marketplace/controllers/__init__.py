"""HTTP controllers of the app shell; thin: parse, call one service, render."""
