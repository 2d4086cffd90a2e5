// Module ids by name, not by a hash of the module: the container module's name holds the
// checkout's absolute path, so with hashed ids its id, and by collision another module's,
// changed with the folder the extension was built in. Named ids make the build reproducible.
module.exports = {
  optimization: { moduleIds: 'named' }
};
