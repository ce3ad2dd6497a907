// A standard Socket.IO 4 rooms server for the side-by-side benchmark (docs/benchmarks.md): a client
// emits "join"(room, ack) to enter a room (acknowledged once joined) and "pub"(room, data) to have the server re-emit
// "m"(room, data) to everyone in the room with io.to(room).emit. No persistence, no auth.
// Usage: node socketio-server.js PORT
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 3000);
const io = new Server(port, { transports: ["websocket"], serveClient: false, perMessageDeflate: false });
io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(String(room));
    if (typeof ack === "function") ack();
  });
  socket.on("pub", (room, data) => io.to(String(room)).emit("m", room, data));
});
console.log(`socket.io rooms server on port ${port}`);
