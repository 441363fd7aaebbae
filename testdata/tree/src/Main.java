class Main {
    // Maps client
    static final String MAPS = "AIzaDDmGG1MHZlApi89aAY6sA7xxHv6l9UF9d8d";
}
